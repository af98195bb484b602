"""ML customer-value assets: CLV, churn risk, basket rules and spend drivers.

Each asset reads marts (and ``ml.customer_segments`` for spend drivers), calls a pure model in
``ml/``, writes its result to ``ml.*`` with model version and training time
(``orchestration.ml_io``), keeps the fitted artifact under FUNDFLOW_HOME/models and puts its
quality figures in the materialization metadata.
"""


import dagster as dg

CLV_KEY = dg.AssetKey(["ml", "customer_clv"])
CHURN_KEY = dg.AssetKey(["ml", "churn_risk"])
BASKET_RULES_KEY = dg.AssetKey(["ml", "association_rules"])
SPEND_DRIVERS_KEY = dg.AssetKey(["ml", "spend_drivers"])
ML_VALUE_KEYS = [CLV_KEY, CHURN_KEY, BASKET_RULES_KEY, SPEND_DRIVERS_KEY]
