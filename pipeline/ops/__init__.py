"""Operations, apart from the stages: the `newsmon` command line, the demo, and the local Airflow
controller. Nothing in the stages imports from here.
"""
