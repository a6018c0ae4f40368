(* Tied-bias networks (THEORY.md section 8.1, "Tied networks"; issue 18,
   item 1).  The neurons fall into classes cls c; a neuron reads only
   neurons of lower classes (classes are ordered like the layers of a
   network, so copies of one neuron for different examples, positions or
   tokens never read each other).  Every class K containing a neuron whose
   activation has a kink has a bias parameter bias K of its own: it enters
   each neuron of K with coefficient 1 (tau_c = w_p + r_c, p not in r_c)
   and no neuron of another class.  The output (a C1 loss, C1Output.v) may
   use every parameter.  Classes without kinked activations (identity,
   tanh, ...) need no bias.
   Batches (Batch.v: the class of copy (k, i) is k), convolution positions
   (Conv.v) and position-wise layers over tokens are instances.  Unrolled
   recurrent networks are not: there a neuron reads the previous time step
   of its own class, and T7 fails for them (T7Recurrent.v). *)
From Coq Require Import Reals Lra Lia List Arith Classical.
From ADCorrect Require Import Vec Activation Network.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Section Tied.
Variables (net : network) (cls : nat -> nat).
Let N := n_size net.

(* p enters every neuron of class K with coefficient 1 and no other neuron *)
Definition class_bias (K p : nat) : Prop :=
  (p < n_params net)%nat /\
  forall c, (c < N)%nat ->
    (cls c = K -> exists r, ~ occurs_param p r /\
       forall w z, eval (n_input net) w z (tau net c) = w p + eval (n_input net) w z r) /\
    (cls c <> K -> ~ occurs_param p (tau net c)).

(* neurons read only neurons of lower classes *)
Definition classes_ordered : Prop :=
  forall c j, (c < N)%nat -> occurs_neuron j (tau net c) -> (cls j < cls c)%nat.

(* the class of every neuron with a kinked activation has its bias *)
Definition tied_bias (bias : nat -> nat) : Prop :=
  classes_ordered /\
  forall c, (c < N)%nat -> kinks (sigma net c) <> [] -> class_bias (cls c) (bias (cls c)).

End Tied.

(** * Basic facts *)

Lemma is_kink_kinks_nonempty (a : activation) (y : R) : is_kink a y -> kinks a <> [].
Proof. intros Hk Hn; apply kinks_spec in Hk; rewrite Hn in Hk; exact Hk. Qed.

Lemma slopes_differ_kinks_nonempty (a : activation) (y : R) :
  slope_left a y <> slope_right a y -> kinks a <> [].
Proof.
  intros Hne; apply (is_kink_kinks_nonempty a y).
  destruct (classic (is_kink a y)) as [H|H]; [exact H|].
  exfalso; apply Hne, not_kink_slopes, H.
Qed.

Section Lower.
Variables (net : network) (cls : nat -> nat) (K p : nat).
Let N := n_size net.
Hypothesis Hwf : forall c, (c < N)%nat -> neurons_below c (tau net c).
Hypothesis Hord : classes_ordered net cls.
Hypothesis Hp : forall c, (c < N)%nat -> cls c <> K -> ~ occurs_param p (tau net c).

(* moving the bias of class K moves no neuron of a lower class *)
Lemma class_bias_lower (w : vec) (t : R) :
  forall j, (j < N)%nat -> (cls j < K)%nat -> post net (upd w p t) j = post net w j.
Proof.
  intros j; induction j as [j IH] using lt_wf_ind; intros Hj Hcj.
  unfold post, preact; f_equal.
  rewrite eval_upd_not_occurs by (apply Hp; [exact Hj | lia]).
  apply eval_ext_neuron; intros i Hi.
  pose proof (Hwf j Hj i Hi) as Hij; pose proof (Hord j i Hj Hi) as Hci.
  rewrite !zvals_lt by exact Hij; apply IH; lia.
Qed.

(* a neuron of class K reads the same outputs after the move *)
Lemma class_bias_zvals (w : vec) (t : R) (c : nat) : (c < N)%nat -> cls c = K ->
  forall j, occurs_neuron j (tau net c) -> zvals net (upd w p t) c j = zvals net w c j.
Proof.
  intros Hc HK j Hj; pose proof (Hwf c Hc j Hj) as Hjc; pose proof (Hord c j Hc Hj) as Hcj.
  rewrite !zvals_lt by exact Hjc; apply class_bias_lower; lia.
Qed.

(* y_c(w + t e_p) - t does not depend on t, for every neuron c of class K *)
Lemma class_bias_preact (w : vec) (t : R) (c : nat) (r : expr) :
  (c < N)%nat -> cls c = K -> ~ occurs_param p r ->
  (forall w z, eval (n_input net) w z (tau net c) = w p + eval (n_input net) w z r) ->
  preact net (upd w p t) c - t = preact net w c - w p.
Proof.
  intros Hc HK Hr Heq; unfold preact.
  rewrite (eval_ext_neuron _ _ _ (zvals net w c) _ (class_bias_zvals w t c Hc HK)).
  rewrite !Heq, eval_upd_not_occurs by exact Hr.
  unfold upd; destruct (Nat.eq_dec p p); [ring | congruence].
Qed.

End Lower.
