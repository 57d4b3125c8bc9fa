"""Care management: worklists for the partnership's joint clinical teams."""
