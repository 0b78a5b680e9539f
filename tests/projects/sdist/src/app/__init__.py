"""sdist-fixture: a fixture Lambda function for the lambda-zip tests."""
