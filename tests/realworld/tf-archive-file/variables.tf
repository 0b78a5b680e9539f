variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "function_name" {
  type    = string
  default = "terraform-lambda-example"
}
