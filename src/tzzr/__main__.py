from tzzr.cli import main

main()
