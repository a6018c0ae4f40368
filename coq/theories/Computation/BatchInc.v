(* AD is correct on batched bias networks with one-kink activations (T6,
   THEORY.md section 8.1), stated on counts: inc_M = 0 for the batched
   network with a polynomial loss (issue 18, item 5: the inc counts of the
   batched examples).  The polynomial network with_out (batch_neurons ...) o
   is the batch_net with the C1 loss of its output (C1Instance.v), same
   function and same AD, so T6_batch_ad_correct_one_kink applies. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD Counting C1Output C1Instance Batch
  T6Correct QDecide.
Import ListNotations.
Open Scope R_scope.

Theorem batch_inc_count_one_kink (net : network) (B : nat) (xs : nat -> nat -> R) (o : expr)
  (Hwfo : wf (with_out (batch_neurons net B xs) o)) (d : nat -> R) (M : list R) :
  wf_neurons net -> batch_bias net B xs ->
  (forall k, (k < n_size net)%nat -> forall c c', is_kink (sigma net k) c -> is_kink (sigma net k) c' -> c = c') ->
  inc_count (with_out (batch_neurons net B xs) o) (fun c => d (c mod n_size net)) M = 0%nat.
Proof.
  intros Hwf Hb H1; unfold inc_count; apply count_none; intros u _ [g [Hg [p [Hp Hne]]]]; apply Hne.
  set (X := with_out (batch_neurons net B xs) o) in *.
  set (loss := poly_output X Hwfo : c1_output (n_params net) (n_size (batch_neurons net B xs))).
  assert (Heval : forall w, c1_eval (batch_net net B xs loss) w = net_eval X w).
  { intros w; unfold batch_net; rewrite (proj1 (c1_with_out (batch_neurons net B xs) o loss) w).
    exact (c1_of_net_eval X Hwfo w). }
  assert (Hd : differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u) g).
  { eapply differentiable_at_ext; [exact Heval | exact Hg]. }
  rewrite <- (T6_batch_ad_correct_one_kink net B xs loss Hwf Hb (fun k _ => d k) (word_vec u) g H1 Hd p Hp).
  unfold batch_net; rewrite (proj2 (c1_with_out (batch_neurons net B xs) o loss)).
  exact (eq_sym (ad_c1_of_net X Hwfo _ (word_vec u) p Hp)).
Qed.
