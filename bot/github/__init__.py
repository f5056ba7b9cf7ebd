"""GitHub access: the client factory (one per installation, tokens cached in Redis) and the error seam."""
