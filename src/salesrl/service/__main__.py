from salesrl.service.server import main

main()
