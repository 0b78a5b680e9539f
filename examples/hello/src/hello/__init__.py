"""A greeting function for AWS Lambda."""
