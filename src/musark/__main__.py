from musark.cli import main

main()
