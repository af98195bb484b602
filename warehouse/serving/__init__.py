"""What goes into the serving copy besides the tables: who it is for (``audience``), the guard
that keeps clear personal data out (``pii_guard``) and the BI views (``bi_views`` + ``views/``)."""
