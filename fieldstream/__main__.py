import sys

from fieldstream.cli import main

sys.exit(main())
