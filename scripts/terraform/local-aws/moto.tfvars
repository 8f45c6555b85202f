# The root module's variables for the apply against moto_server (scripts/terraform/apply-local).
cacheload_artifact_s3_uri   = "s3://cacheload-artifacts/release/cacheload-linux-x86_64.tar.gz"
ami_id                      = "ami-12c6146b" # one of moto's built-in images
deletion_protection         = false
secret_recovery_window_days = 0
loadgen_count               = 1
rds_ca_bundle_s3_uri        = "s3://cacheload-artifacts/certs/us-east-1-bundle.pem"
