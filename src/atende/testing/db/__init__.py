"""Database backends for the test suite: the production ones, except that emptying the
tables between transactional tests (Django's flush) gets past the event log's guards,
which refuse it to the application by design. Only ``settings_test`` selects them."""
