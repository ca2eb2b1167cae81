"""Guanxi (关系): a CRM for salespeople, sales teams and their managers."""
