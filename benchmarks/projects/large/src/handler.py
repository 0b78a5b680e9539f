"""The large fixture: a data handler on numpy and pandas."""

import numpy as np
import pandas as pd


def handler(event, context):
    frame = pd.DataFrame({"value": np.arange(event.get("n", 10), dtype=np.float64)})
    return {"statusCode": 200, "body": frame["value"].describe().to_json()}
