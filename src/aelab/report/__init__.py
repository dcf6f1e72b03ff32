"""Reports: figures and the demo job."""
