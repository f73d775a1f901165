"""The local stack: the whole product on one laptop (moto server as AWS, an API Gateway look-alike,
the queue pump and the scheduler), built from the synthesized CDK template. Not shipped to Lambda."""
