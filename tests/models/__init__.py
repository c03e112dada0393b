"""Ten ordinary models, written as they would be for autograd: see tests/test_models.py."""
