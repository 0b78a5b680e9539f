import aws_cdk as core
import aws_cdk.assertions as assertions
from stacks.apigw_http_api_lambda_stack import ApigwHttpApiLambdaStack


def test_lambda_created():
    app = core.App()
    stack = ApigwHttpApiLambdaStack(app, "test")
    assertions.Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 2)
