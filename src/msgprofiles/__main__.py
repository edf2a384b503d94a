from msgprofiles.cli import main

main()
