# Horizon's local_settings.py for the dashboard test (`npm run test:horizon`, docs/horizon.md).
# scripts/ensure-horizon.sh copies it into the Horizon venv as openstack_dashboard/local/local_settings.py;
# the values that change per run come from the environment the test starts `manage.py runserver` with:
#   JACKET_HORIZON_KEYSTONE_URL  Jacket's identity endpoint, e.g. http://127.0.0.1:8774/identity/v3
#   JACKET_HORIZON_STATE_DIR     a writable folder for the secret key and compressed static files
#   JACKET_HORIZON_DEBUG         "1" for Django's debug pages (tracebacks in the browser)
# No database and no memcached: sessions live in the process's memory (runserver is one process).
import os

from horizon.utils import secret_key

DEBUG = os.environ.get('JACKET_HORIZON_DEBUG') == '1'
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']

_STATE = os.environ.get('JACKET_HORIZON_STATE_DIR') or os.path.join(os.path.dirname(os.path.abspath(__file__)), 'state')
os.makedirs(_STATE, exist_ok=True)
SECRET_KEY = secret_key.generate_or_read_from_file(os.path.join(_STATE, '.secret_key_store'))

OPENSTACK_KEYSTONE_URL = os.environ.get('JACKET_HORIZON_KEYSTONE_URL', 'http://127.0.0.1:8774/identity/v3')
OPENSTACK_API_VERSIONS = {
    'identity': 3,
    'image': 2,
    'volume': 3,
    'compute': 2,
}
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_ENDPOINT_TYPE = 'publicURL'

# Sessions in a local-memory cache: no database, no memcached; Horizon's tokens make cookies too big
# for the signed-cookie engine. Sessions get a cache of their own: django-compressor fills the default
# one with hundreds of entries (a file's mtime each), and a local-memory cache past MAX_ENTRIES culls a
# third of its keys, sessions among them (the user is logged out in the middle of a page).
SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
SESSION_CACHE_ALIAS = 'sessions'
CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
        'OPTIONS': {'MAX_ENTRIES': 100000},
    },
    'sessions': {
        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
        'LOCATION': 'sessions',
        'OPTIONS': {'MAX_ENTRIES': 100000},
    },
}

# Static files: served by `runserver --insecure` through the staticfiles finders; django-compressor
# compiles the SCSS on the first request and keeps the result under the state folder (no offline
# compression step).
STATIC_ROOT = os.path.join(_STATE, 'static')
COMPRESS_ROOT = STATIC_ROOT
COMPRESS_OFFLINE = False

# Volume backups are a Jacket feature (Project > Volumes > Backups).
OPENSTACK_CINDER_FEATURES = {
    'enable_backup': True,
}

TIME_ZONE = 'UTC'

LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {
        'console': {'format': '%(asctime)s %(levelname)s %(name)s %(message)s'},
    },
    'handlers': {
        'console': {'level': 'DEBUG', 'class': 'logging.StreamHandler', 'formatter': 'console'},
    },
    'loggers': {
        # Horizon's own errors (a failed API call, with the exception) and the request log.
        'horizon': {'handlers': ['console'], 'level': 'INFO', 'propagate': False},
        'openstack_dashboard': {'handlers': ['console'], 'level': 'INFO', 'propagate': False},
        'openstack_auth': {'handlers': ['console'], 'level': 'INFO', 'propagate': False},
        'django': {'handlers': ['console'], 'level': 'INFO', 'propagate': False},
        # Every API call Horizon makes, with its status: how a failing page is traced to Jacket.
        'keystoneauth': {'handlers': ['console'], 'level': 'DEBUG', 'propagate': False},
        'novaclient': {'handlers': ['console'], 'level': 'DEBUG', 'propagate': False},
        'cinderclient': {'handlers': ['console'], 'level': 'DEBUG', 'propagate': False},
        'glanceclient': {'handlers': ['console'], 'level': 'DEBUG', 'propagate': False},
        'openstack': {'handlers': ['console'], 'level': 'DEBUG', 'propagate': False},
    },
}

# The Launch Instance wizard boots from the image itself (no new boot volume): the test's flow.
LAUNCH_INSTANCE_DEFAULTS = {
    'create_volume': False,
}
