from pinpipe.cli import main

main()
