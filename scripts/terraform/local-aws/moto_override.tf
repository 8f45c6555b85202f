# Test-only provider settings (copied next to terraform/main.tf by scripts/terraform/apply-local):
# every service the configuration uses is the local moto_server, credentials are moto's dummies.
provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    autoscaling    = "MOTO_ENDPOINT"
    cloudwatch     = "MOTO_ENDPOINT"
    ec2            = "MOTO_ENDPOINT"
    elasticache    = "MOTO_ENDPOINT"
    elbv2          = "MOTO_ENDPOINT"
    iam            = "MOTO_ENDPOINT"
    kms            = "MOTO_ENDPOINT"
    logs           = "MOTO_ENDPOINT"
    rds            = "MOTO_ENDPOINT"
    s3             = "MOTO_ENDPOINT"
    secretsmanager = "MOTO_ENDPOINT"
    sns            = "MOTO_ENDPOINT"
    ssm            = "MOTO_ENDPOINT"
    sts            = "MOTO_ENDPOINT"
  }
}
