"""Every read of the service package, one module per topic. Complaints, promises, objections and
survey invitations about a customer are visible exactly when the customer is (an escalated complaint
also to the person it was escalated to); anything else is "not found"."""
