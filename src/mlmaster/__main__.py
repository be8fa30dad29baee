from mlmaster.cli.app import main

main()
