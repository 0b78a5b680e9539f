#!/usr/bin/env python3
import aws_cdk as cdk
from stacks.apigw_http_api_lambda_stack import ApigwHttpApiLambdaStack

app = cdk.App()
ApigwHttpApiLambdaStack(app, "ApigwHttpApiLambdaStack")
app.synth()
