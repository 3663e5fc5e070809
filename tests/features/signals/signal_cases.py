"""Hand-written utterances per act (obvious cases) and neutral utterances, for the tests."""

from __future__ import annotations

import numpy as np

REP_CASES: dict[str, tuple[str, ...]] = {
    "small_talk": (
        "Hi Dana, how are you doing today?",
        "Did you get out at all over the weekend?",
        "Thanks so much for taking the time to talk with me.",
    ),
    "situation_question": (
        "Which CRM are you using at the moment?",
        "How many reps are on the team right now?",
        "Could you walk me through how you handle renewals today?",
    ),
    "problem_question": (
        "What's the biggest challenge with the way you do forecasting?",
        "Are you happy with how long it takes to onboard new hires?",
        "Where do deals usually get stuck in your pipeline?",
    ),
    "implication_question": (
        "How does that backlog affect your customers?",
        "What happens when a renewal slips through the cracks?",
        "What does that mean for the team's quota at the end of the quarter?",
    ),
    "need_payoff_question": (
        "If you could cut that to one day, what would it mean for your team?",
        "Would it be useful to see all of your pipeline in one view?",
        "How would it help if those reports built themselves?",
    ),
    "value_proposition": (
        "Our platform helps finance teams close the books 40% faster.",
        "Most teams see it pay for itself inside one quarter.",
        "We help support teams cut response times in half.",
    ),
    "social_proof": (
        "Companies like yours, Acme and Globex for example, rolled it out last year.",
        "We're trusted by more than 3,000 customers across Europe.",
        "One of our clients in logistics reduced churn by a third.",
    ),
    "objection_handling": (
        "That's a fair point, and a lot of our customers felt the same at first.",
        "I completely understand. What if we started with a single team?",
        "I hear you. Compared to the cost of doing nothing, it is modest.",
    ),
    "demo_offer": (
        "Can I show you a quick demo of the dashboard?",
        "Why don't we set you up with a free trial for two weeks?",
        "I'd love to walk you through how the approvals work.",
    ),
    "discount": (
        "I can do 15% off if you commit to an annual plan.",
        "We'll waive the onboarding fee for you.",
        "There's a special introductory price for new customers this month.",
    ),
    "closing_attempt": (
        "Are you ready to move forward with the team plan?",
        "Shall I send over the agreement today?",
        "Which package would you like to go with?",
    ),
    "next_step": (
        "Let's schedule a follow-up call with your IT lead.",
        "I'll send you a calendar invite for Thursday.",
        "What would be the next steps on your side?",
    ),
}

CUSTOMER_CASES: dict[str, tuple[str, ...]] = {
    "interest": (
        "Oh, that sounds really useful.",
        "Interesting, tell me more about the reporting side.",
        "We've been looking for something exactly like that.",
    ),
    "question": (
        "Does it integrate with Outlook?",
        "How long does the setup usually take?",
        "What kind of support do you offer after launch?",
    ),
    "objection_price": (
        "Honestly that's too expensive for a team our size.",
        "That's way out of our budget this year.",
        "We can't afford another subscription right now.",
    ),
    "objection_timing": (
        "It's just not a priority right now.",
        "We're swamped with the migration, maybe next quarter.",
        "Now is a really bad time for us.",
    ),
    "objection_authority": (
        "I'd need to check with my boss before anything.",
        "It's not my call, procurement decides these things.",
        "Anything like this needs sign-off from our CFO.",
    ),
    "objection_need": (
        "We don't really need this, our spreadsheet works fine.",
        "We're fine with what we have.",
        "Honestly, I don't think we need a tool for that.",
    ),
    "objection_competitor": (
        "We already use Salesforce for all of this.",
        "We're locked into a contract with another vendor until June.",
        "Your competitor quoted us half that.",
    ),
    "objection_trust": (
        "This sounds too good to be true.",
        "How do I know your numbers are real?",
        "I've never heard of your company before.",
    ),
    "stall": (
        "Just send me some info and I'll take a look.",
        "Let me think about it and get back to you.",
        "I'll get back to you after the holidays.",
    ),
    "commitment": (
        "OK, let's do it.",
        "Send over the contract and I'll sign it today.",
        "We'll go ahead with the annual plan.",
    ),
    "rejection": (
        "We're not interested, thanks.",
        "No thanks, we'll pass on this one.",
        "Please stop calling me.",
    ),
    "small_talk_customer": (
        "Doing well, thanks, how are you?",
        "Good morning!",
        "The weather here has been lovely.",
    ),
}

NEUTRAL_REP = (
    "Our office is in Denver.",
    "I joined the company two years ago.",
    "The report is attached to the ticket.",
    "Okay.",
    "Right, got it.",
)
NEUTRAL_CUSTOMER = (
    "Our office is in Denver.",
    "I joined the company two years ago.",
    "The report is attached to the ticket.",
    "Okay.",
    "Right, got it.",
)


class BagOfWords:
    """A deterministic toy embedder: hashed word counts, L2-normalised."""

    dim = 64

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace("?", " ").replace(".", " ").split():
                out[i, sum(map(ord, w)) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
