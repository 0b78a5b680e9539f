from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw_
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


class ApigwHttpApiLambdaStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # The request handler, packaged from its own directory.
        api_handler = lambda_.Function(
            self,
            "ApiHandler",
            function_name="apigw_handler",
            runtime=lambda_.Runtime.PYTHON_3_12,
            code=lambda_.Code.from_asset("lambda/apigw-handler"),
            handler="index.handler",
            memory_size=1024,
            timeout=Duration.minutes(5),
        )

        # A nightly report on Graviton, from the same asset directory.
        lambda_.Function(
            self,
            "ReportHandler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset("lambda/apigw-handler"),
            handler="report.handler",
            timeout=Duration.minutes(1),
        )

        apigw_.LambdaRestApi(self, "Endpoint", handler=api_handler)
