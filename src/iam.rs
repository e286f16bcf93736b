//! Least-privilege IAM permissions per role, printed by `setup` when access is denied and
//! documented as JSON policies in the README.

pub const ADMIN_POLICY_SUMMARY: &str = "  s3:CreateBucket, s3:ListBucket, s3:GetObject, s3:PutObject on arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/*
  sqs:CreateQueue, sqs:GetQueueUrl, sqs:GetQueueAttributes, sqs:SetQueueAttributes, sqs:ListQueues, sqs:DeleteQueue
      on arn:aws:sqs:<region>:<account>:hotdog-* (the request, response and label queues, their -dlq, and hotdog-reply-*)";
