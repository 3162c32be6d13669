-- A sent invoice keeps the payer's details it was sent with: payers can now be edited (a new
-- address, a corrected name or debtor number), and an invoice in the payer's books must read
-- the same afterwards. The name, reference and address are copied when an invoice is sent
-- (credit notes: when made, which is when they are sent); drafts have none and show the
-- payer's current details. Invoices sent before this migration get the details of now, which
-- are the ones they were sent with (payers could not be edited until now).
ALTER TABLE invoices ADD COLUMN payer_name TEXT;
ALTER TABLE invoices ADD COLUMN payer_reference TEXT;
ALTER TABLE invoices ADD COLUMN payer_address TEXT;
UPDATE invoices SET
    payer_name = (SELECT p.name FROM payers p WHERE p.id = invoices.payer_id),
    payer_reference = (SELECT p.reference FROM payers p WHERE p.id = invoices.payer_id),
    payer_address = (SELECT p.address FROM payers p WHERE p.id = invoices.payer_id)
WHERE status <> 'draft';
