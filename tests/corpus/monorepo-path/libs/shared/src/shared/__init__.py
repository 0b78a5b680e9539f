"""The monorepo's shared code: one logger configuration for every function."""

from aws_lambda_powertools import Logger

SERVICE = "orders"


def make_logger() -> Logger:
    return Logger(service=SERVICE)
