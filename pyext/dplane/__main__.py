# SPDX-License-Identifier: Apache-2.0
import sys

from .service import main

sys.exit(main())
