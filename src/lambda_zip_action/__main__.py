from lambda_zip_action.cli import main

raise SystemExit(main())
