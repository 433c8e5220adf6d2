"""What every area's handlers share: the base API handler, streamed request bodies, trait checks."""
