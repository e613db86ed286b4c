"""Creating (migrations) and checking (verify) the database schema."""
