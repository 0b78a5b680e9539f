output "function_arn" {
  value = aws_lambda_function.lambda.arn
}
