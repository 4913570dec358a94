"""The Kedro project of ductwork's ductwork.kedro tests."""
