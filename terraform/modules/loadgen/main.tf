# Load generators: `cacheload load` installed and nothing running. Operators start runs through SSM
# (see terraform/README.md); the instances reach the server's port and HTTPS, nothing else.

data "aws_partition" "current" {}

locals {
  artifact_path = trimprefix(var.artifact_s3_uri, "s3://")
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count              = var.instance_count > 0 ? 1 : 0
  name               = "${var.name}-loadgen"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count      = var.instance_count > 0 ? 1 : 0
  role       = aws_iam_role.this[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "loadgen" {
  statement {
    sid       = "FetchRelease"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${local.artifact_path}"]
  }
}

resource "aws_iam_role_policy" "loadgen" {
  count  = var.instance_count > 0 ? 1 : 0
  name   = "cacheload-loadgen"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.loadgen.json
}

resource "aws_iam_instance_profile" "this" {
  count = var.instance_count > 0 ? 1 : 0
  name  = "${var.name}-loadgen"
  role  = aws_iam_role.this[0].name
}

resource "aws_security_group" "this" {
  name        = "${var.name}-loadgen"
  description = "cacheload load generators: no inbound; out to the server and HTTPS"
  vpc_id      = var.vpc_id

  egress {
    description = "The cacheload server port inside the VPC"
    from_port   = 8080
    to_port     = 8080
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.this.cidr_block]
  }

  egress {
    description = "HTTPS: AWS endpoints and the SSM agent"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP: Debian package mirrors (apt verifies signatures)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

data "aws_vpc" "this" {
  id = var.vpc_id
}

resource "aws_instance" "this" {
  count                  = var.instance_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.this.id]
  iam_instance_profile   = aws_iam_instance_profile.this[0].name
  ebs_optimized          = true
  monitoring             = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 16
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  user_data                   = <<-EOT
    #!/bin/bash
    set -euo pipefail
    ${templatefile("${path.module}/../../templates/install-cacheload.sh.tftpl", { region = var.region, artifact_s3_uri = var.artifact_s3_uri })}
    install -d /etc/cacheload
    echo '${var.target_url}' > /etc/cacheload/target
    # Many connections per process need many descriptors.
    echo '* soft nofile 65536' >> /etc/security/limits.conf
    echo '* hard nofile 65536' >> /etc/security/limits.conf
  EOT
  user_data_replace_on_change = true

  tags = { Name = "${var.name}-loadgen-${count.index + 1}" }
}
