# ICP, scoring models, scores and tiers are built on the accounts and territories models.
