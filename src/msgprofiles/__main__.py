from msgprofiles.cli import main

if __name__ == "__main__":  # not when a spawned import process loads this module as its main
    main()
