from tests.evidence.conftest import english, signing_key_file  # noqa: F401  (the evidence tests' own key)
