"""Partner coordination portal for children's online safety in Albania."""

import os

# Piccolo finds its engine and app registry through this module path.
os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
