"""What a project's deploy tool declares: the functions to build, each with its code and target.

`discover(project_dir)` reads the deploy configuration a project already has (SAM or
CloudFormation templates, serverless.yml, CDK's synthesized cdk.out, Terraform, Chalice, Zappa,
and `[tool.lambda-zip]` functions, which always win) and returns one `DeployConfig`, or None when
the project declares nothing. Every fact carries the file and line that said it.
"""
