import sys

from .head import main

sys.exit(main())
