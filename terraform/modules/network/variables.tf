variable "name" {
  description = "Name prefix of every resource."
  type        = string
}

variable "region" {
  description = "AWS region (for the VPC endpoint service names)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "enable_nat_gateway" {
  description = "Internet egress for the private subnets through a NAT gateway."
  type        = bool
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow-log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept."
  type        = number
  default     = 365
}

variable "availability_zones" {
  description = "The two AZs of the private subnets; empty for <region>a and <region>b."
  type        = list(string)
  default     = []
}
