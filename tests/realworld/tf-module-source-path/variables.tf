variable "log_level" {
  type    = string
  default = "INFO"
}
