# The AWS provider as the plans see it (terraform test, mock_provider source): what the
# configuration reads back from AWS, with values shaped like the real ones.

mock_data "aws_ami" {
  defaults = { id = "ami-0d1e2b3a4c5f60718" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_availability_zones" {
  defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c"] }
}
mock_data "aws_vpc" {
  defaults = { cidr_block = "10.42.0.0/16" }
}
mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}
mock_data "aws_secretsmanager_random_password" {
  defaults = { random_password = "GeneratedBySecretsManager0123456789abcdefghijkl" }
}
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cacheload-dev/x-AbCdEf" }
}
mock_resource "aws_instance" {
  defaults = { id = "i-0123456789abcdef0", private_ip = "10.42.1.10" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-east-1:123456789012:cacheload-dev-alarms" }
}
mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = { arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cacheload-dev-hit-ratio-low" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/cacheload/cacheload-dev/vpc-flow-logs" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/cacheload-dev" }
}
mock_resource "aws_db_instance" {
  defaults = {
    address            = "cacheload-dev.abcdefghijkl.us-east-1.rds.amazonaws.com"
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-AbCdEf", kms_key_id = "k", secret_status = "active" }]
  }
}
mock_resource "aws_elasticache_replication_group" {
  defaults = {
    primary_endpoint_address       = "master.cacheload-dev.abcdef.use1.cache.amazonaws.com"
    configuration_endpoint_address = "clustercfg.cacheload-dev.abcdef.use1.cache.amazonaws.com"
    member_clusters                = ["cacheload-dev-001", "cacheload-dev-002"]
  }
}
mock_resource "aws_elasticache_serverless_cache" {
  defaults = {
    endpoint        = [{ address = "cacheload-dev-abcdef.serverless.use1.cache.amazonaws.com", port = 6379 }]
    reader_endpoint = [{ address = "cacheload-dev-abcdef.serverless.use1.cache.amazonaws.com", port = 6380 }]
  }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::cacheload-dev-results-20261124", id = "cacheload-dev-results-20261124" }
}
mock_data "aws_elb_service_account" {
  defaults = { arn = "arn:aws:iam::127311923021:root" }
}
mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cacheload-dev-alb/0123456789abcdef"
    arn_suffix = "app/cacheload-dev-alb/0123456789abcdef"
    dns_name   = "internal-cacheload-dev-alb-123456789.us-east-1.elb.amazonaws.com"
  }
}
mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cl-0123456789abcdef/0123456789abcdef"
    arn_suffix = "targetgroup/cl-0123456789abcdef/0123456789abcdef"
  }
}
mock_resource "aws_launch_template" {
  defaults = { id = "lt-0123456789abcdef0", latest_version = 1 }
}
mock_resource "aws_autoscaling_group" {
  defaults = { name = "cacheload-dev-app-20261205000000000000000001" }
}
mock_resource "aws_security_group" {
  defaults = { id = "sg-0123456789abcdef0" }
}
mock_resource "aws_iam_instance_profile" {
  defaults = { arn = "arn:aws:iam::123456789012:instance-profile/cacheload-dev-app" }
}
