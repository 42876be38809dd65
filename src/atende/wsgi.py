import os
import sys

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
application = get_wsgi_application()

# A request waiting on the database gives the interpreter up; getting it back, it waits
# for the thread that holds it to reach the switch interval. Every statement of a page
# pays that wait again behind a busy API request, so a server's interval is shorter than
# Python's 5 ms.
sys.setswitchinterval(settings.SERVER_SWITCH_INTERVAL_US / 1_000_000)
