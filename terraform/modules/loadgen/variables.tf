variable "name" {
  description = "Name prefix of every resource."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets; instances are spread over them."
  type        = list(string)
}

variable "instance_count" {
  description = "Number of load generators (0 for none)."
  type        = number
}

variable "ami_id" {
  description = "Debian 12 x86_64 AMI (the release tarball is built for it)."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the EBS volumes."
  type        = string
}

variable "artifact_s3_uri" {
  description = "s3:// URI of the cacheload tarball."
  type        = string
}

variable "target_url" {
  description = "Base URL of the cacheload server, written to /etc/cacheload/target for operators."
  type        = string
}

variable "results_retention_days" {
  description = "Days a run's results stay in the results bucket."
  type        = number
  default     = 30
}
