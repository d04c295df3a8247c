"""`make train`: the answer stage's models fitted from ../shared/train through the product's own
retrieval and features. Serving code never imports this package."""
