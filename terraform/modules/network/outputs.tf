output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "The two private subnets, one per AZ."
  value       = aws_subnet.private[*].id
}

output "public_subnet_id" {
  description = "The public subnet holding the NAT gateway."
  value       = aws_subnet.public[0].id
}

output "public_subnet_ids" {
  description = "The two public subnets, one per AZ (an internet-facing balancer's)."
  value       = aws_subnet.public[*].id
}
