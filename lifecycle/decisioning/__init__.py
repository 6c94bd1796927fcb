"""Decisioning: what the bank concludes about each customer from its features.

This package decides the lifecycle stage, the value / risk / needs tiers, the
composite score and the labels, and holds the statistical activity and value
models behind them (BG/NBD probability active, Gamma-Gamma spend, customer
lifetime value). Its rule and model modules are pure: frames and arrays in,
frames, arrays and frozen dataclasses out, no database and no orchestration.
"""
